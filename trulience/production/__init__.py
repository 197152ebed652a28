"""Batch production (PRD-57): cost estimates from history (PRD-61), project budgets
(PRD-93), and batches of character x scene-type takes tracked through to delivery."""
