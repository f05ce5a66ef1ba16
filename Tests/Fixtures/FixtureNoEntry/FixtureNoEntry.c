int placeholder_FixtureNoEntry(void) { return 0; }
