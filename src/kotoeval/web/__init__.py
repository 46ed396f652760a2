"""The dashboard: authentication, roles and areas, views and API (open zone: released bundles only). Not built yet."""
