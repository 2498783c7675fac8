"""The one core of the application generators: values of a matter's facts, with no source of chance.

`literals` reads what a matter's rules compare its facts against; `identifiers` builds valid
citizen ID numbers and credit codes from their parts and spoils them; `values` gives, per fact
type, the values next to a literal, the values moved away from a valid one and the values the
validator refuses. Each is a pure function of its arguments. Three drivers choose among them:
`secondapproval.strategies` (Hypothesis draws), `secondapproval.benchgen` (a seeded
`random.Random`) and `secondapproval.samples` (perturbing the approved cases of scenario files).
"""
