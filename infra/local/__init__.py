"""The local stack: notfall on moto, built from template.yaml (run it with `python -m infra.local`)."""
