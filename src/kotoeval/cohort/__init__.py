"""Study populations, index dates, covariates, outcomes and person × month panels as Ibis expressions (secure zone). Not built yet."""
