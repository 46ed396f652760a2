"""The dashboard: authentication, roles and areas, views and API.

Open zone: reads released bundles and indicator tables only. Not built yet.
"""
