"""Community: ideas, votes, comments, statuses, subscriptions, routing rules and deliveries.

Business rules live here; nothing here renders HTML or speaks HTTP.
"""
