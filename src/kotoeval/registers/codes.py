"""Code lists of the input contract (REGISTERS.md), in the order the contract gives them.

Codes are lower-case identifiers unless the contract says otherwise. Ordered lists (language
levels) are ordered on purpose: their position is the level's rank.
"""

from typing import Final

SEX: Final = {1: "male", 2: "female"}

MAIN_ACTIVITY: Final = {
    11: "employed",
    12: "unemployed",
    21: "aged_0_14",
    22: "student",
    24: "pensioner",
    25: "conscript",
    29: "other",
    99: "unknown",
}

PERMIT_GROUNDS: Final = (
    "work",
    "family",
    "study",
    "international_protection",
    "quota_refugee",
    "temporary_protection",
    "eu_registration",
    "finnish_origin",
    "other",
)
PERMIT_TYPES: Final = ("temporary", "continuous", "permanent", "eu_right_of_residence")

BENEFITS: Final = (
    "labour_market_subsidy",
    "basic_unemployment_allowance",
    "earnings_related_allowance",
    "social_assistance",
    "housing_allowance",
    "student_grant",
)
UNEMPLOYMENT_BENEFITS: Final = BENEFITS[:3]

JOBSEEKER_STATUSES: Final = (
    "unemployed",
    "laid_off",
    "shortened_week",
    "employed",
    "in_services",
    "subsidised_employment",
    "outside_labour_force",
)
UNEMPLOYED_STATUSES: Final = ("unemployed", "laid_off")

PLANS: Final = ("skills_assessment", "integration_plan", "employment_plan", "multisectoral_plan")

SERVICES: Final = (
    "oske",
    "koske",
    "integration_training",
    "labour_market_training",
    "self_motivated_study",
    "work_trial",
    "coaching",
    "guidance_counselling",
    "talent_hub",
    "wage_subsidy",
    "start_up_grant",
    "rehabilitative_work",
)
END_REASONS: Final = ("completed", "employed", "to_education", "interrupted", "moved_away", "other")

PROGRAMMES: Final = (
    "preparatory",
    "basic_education_adults",
    "vocational_upper_secondary",
    "vocational_further",
    "vocational_specialist",
    "general_upper_secondary",
    "applied_sciences_bachelor",
    "applied_sciences_master",
    "university_bachelor",
    "university_master",
    "doctoral",
    "other",
)
VOCATIONAL_PROGRAMMES: Final = (
    "vocational_upper_secondary",
    "vocational_further",
    "vocational_specialist",
)
#: ISCED 2011 level of the degree a completed study right of each programme gives (Statistics
#: Finland's classification of education: vocational upper secondary and further vocational
#: qualifications at 3, specialist ones at 4). Programmes that give no degree are left out.
PROGRAMME_DEGREE_LEVELS: Final = {
    "vocational_upper_secondary": 3,
    "vocational_further": 3,
    "vocational_specialist": 4,
    "general_upper_secondary": 3,
    "applied_sciences_bachelor": 6,
    "applied_sciences_master": 7,
    "university_bachelor": 6,
    "university_master": 7,
    "doctoral": 8,
}
EDUCATION_OUTCOMES: Final = ("completed", "dropped_out", "transferred", "ongoing")

TEST_LANGUAGES: Final = ("fi", "sv")
SKILLS: Final = ("overall", "reading", "writing", "listening", "speaking")
ASSESSMENTS: Final = ("initial_assessment", "course", "yki", "other")

#: CEFR-based levels of the Finnish national scale, lowest first. The index is the rank.
LANGUAGE_LEVELS: Final = (
    "pre_A1",
    "A1.1",
    "A1.2",
    "A1.3",
    "A2.1",
    "A2.2",
    "B1.1",
    "B1.2",
    "B2.1",
    "B2.2",
    "C1.1",
    "C1.2",
    "C2",
)

#: Registered mother tongues (ISO 639-1) the contract names, plus those the synthetic world uses.
#: ``xx`` is unknown. Any two lower-case letters are accepted at ingest; these are the known ones.
MOTHER_TONGUES: Final = (
    "fi",
    "sv",
    "se",
    "ru",
    "et",
    "ar",
    "so",
    "en",
    "zh",
    "fa",
    "ku",
    "uk",
    "vi",
    "th",
    "tr",
    "sq",
    "de",
    "es",
    "fr",
    "pl",
    "ne",
    "hi",
    "ur",
    "bn",
    "tl",
    "pt",
    "ro",
    "ti",
    "am",
    "xx",
)

#: ISCED 2011 levels that can appear as a completed degree in the population register.
DEGREE_LEVELS: Final = (3, 4, 5, 6, 7, 8)
#: ISCED-F 2013 broad fields.
EDUCATION_FIELDS: Final = tuple(f"{i:02d}" for i in range(11))

#: ISCO-08 major groups counted as expert occupations.
EXPERT_ISCO_MAJOR_GROUPS: Final = ("1", "2", "3")


def level_rank(level: str) -> int:
    """Rank of a language level on the ordered scale (``pre_A1`` is 0, ``C2`` is 12)."""
    return LANGUAGE_LEVELS.index(level)
