"""Study populations, index dates, covariates, outcomes and person × month panels (Ibis).

Secure zone. Written once in Ibis: DuckDB by default, the same code on Spark.
"""
