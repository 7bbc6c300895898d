"""A seeded, realistic history of the service (calls, consultations, needs, care, transport,
partners and caregivers joining), written through the real use cases; see docs/history.md."""
