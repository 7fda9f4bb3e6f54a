"""The five seed vendors' plans as plan-version documents (see pricing.engine.document)."""

import json
from pathlib import Path

PLANS_DIR = Path(__file__).resolve().parent


def seed_plan_document(name: str) -> dict:
    return json.loads((PLANS_DIR / f"{name}.json").read_text(encoding="utf-8"))
