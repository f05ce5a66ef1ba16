int placeholder_FixtureWrongABI(void) { return 0; }
