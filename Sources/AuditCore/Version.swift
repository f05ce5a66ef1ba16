/// The version of the tool, shown by `mia-audit --version` and recorded in every run's results.
public let toolVersion = "0.1.0"
