"""Scenario files: executable expectations of decisions (DESIGN §7), split the way OpenFisca splits
its YAML test tooling — import from the module that does the job:

- `model`: the file model (`ScenarioFile`, `Case`, `Expect`), `validate_cases`, `load_scenario`
  and `CaseResult`; packs import only this, so it imports neither the engine, the loader nor the
  packs;
- `run`: the runner (`EngineCache`, `scenario_cases`, `run_file`, `scenario_files`, `compare`);
- `coverage`: which outcomes of each rule the cases produced (`Coverage`);
- `junit`: JUnit XML of the results (`junit_xml`).

Nothing is re-exported here: importing the model must not load the runner (and the engine).
"""
