"""Write each bundled model's form plan (`form.json`): how often its training pieces restate a
bar 1, 2, 4 and 8 bars back, and for how long (`core.evaluation.form_plan.learn_form_plan`),
calibrated on pieces of its own seeds against the same training pieces
(`calibrate_form_plan`, about a minute per model).

The bundled models were trained before form plans; this reads the training pieces they keep for
the copy guard (`training_notes.npz`, the training side of the split only: never a held-out
piece) and needs no retraining. Deterministic; a second run writes the same files.

    .venv/bin/python scripts/write_form_plans.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.evaluation.form import collection_form_profile
from core.evaluation.form_plan import calibrate_form_plan, learn_form_plan
from core.generation.form import write_form_plan
from core.generation.generator import Generator
from core.model.bundled import BASE, STYLES
from core.model.model_data import TRAINING_NOTES_FILE
from core.model.training_notes import TrainingNotes


def main() -> int:
    for model in (*STYLES.values(), BASE):
        pieces = TrainingNotes.load(model.path / TRAINING_NOTES_FILE).pieces()
        plan = learn_form_plan(pieces)
        if plan is None:
            print(f"{model.name}: no two bars to compare; no plan written")
            continue
        plan = calibrate_form_plan(Generator.from_folder(model.path), plan, pieces)
        write_form_plan(model.path, plan)
        profile = collection_form_profile(pieces)
        print(f"{model.name}: {len(pieces)} training pieces; bars recurring at 1/2/4/8 bars "
              f"{' / '.join(f'{profile[d]:.3f}' for d in sorted(profile))}; plan {plan}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
