"""Skills: the NICE Framework and ECSF catalogues in Vietnamese and English, their crosswalk, and matching of job
postings, curricula and people onto work roles."""
