"""The gate: one policy file, one evaluator, used in CI, at promotion and at admission."""
