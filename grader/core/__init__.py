"""The trusted core: course data, cases, references, comparison, diagnosis, scoring, results."""
