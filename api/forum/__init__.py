"""The ideas forum: pages, bodies, moderation and sign-in."""
