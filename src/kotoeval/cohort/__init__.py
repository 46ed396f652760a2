"""Study populations, index dates, covariates, outcomes and person × month panels (Ibis).

Secure zone. Not built yet.
"""
