// Studies: one YAML, many runs, one comparison.
