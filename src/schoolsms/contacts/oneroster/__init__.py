"""OneRoster 1.1 / 1.2 CSV bundles from the school information system: reading and importing."""
