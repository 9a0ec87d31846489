"""Mesa agents of chipwar: vendors, hyperscalers, regulators, Global-South buyers."""
