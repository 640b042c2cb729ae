"""Appeals, complaints and security incidents (Measures Art. 18, 33, 39; Guangzhou 争议处置):
opened by the platform's users, answered and resolved by its administrators within the
policy's working days, read by the regulator. Each step is a ledger event."""
