"""Two-way CRM sync: connectors (HubSpot, Salesforce), field mapping, inbound sync, outbound timeline."""
