"""Reports computed from read-model rows: pure functions, no AWS.

- `demand`: needs, fill rate and time to assignment, grouped (rows of `demand#<month>`).
- `expenses`: a volunteer's monthly expense statement, as JSON and as CSV (rows of
  `caregiver#<id>` / `month#<month>#case#...`).
- `statements`: a partner's usage statement (notfall.domain.statements) as CSV.
"""
