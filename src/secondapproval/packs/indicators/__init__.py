"""The indicator scoring pack: declare an indicator system in a file, score an economy or a
district against it with a full trace, place the score in a Doing Business rank table and find
the components worth most points.

The shipped system `rules/indicators/db17-20.yaml` is the World Bank's DB17-20 methodology.
"""

from .dataset import Data, Row, load_data
from .inputs import City, Values, ValuesError, check_cities, load_values
from .pack import IndicatorPack
from .priorities import Priority, priorities
from .rank import Placement, RankTable, rank_table
from .scoring import Scorecard, Scored, Scorer
from .system import Component, Group, System, load_system

__all__ = [
    "City",
    "Component",
    "Data",
    "Group",
    "IndicatorPack",
    "Placement",
    "Priority",
    "RankTable",
    "Row",
    "Scorecard",
    "Scored",
    "Scorer",
    "System",
    "Values",
    "ValuesError",
    "check_cities",
    "load_data",
    "load_system",
    "load_values",
    "priorities",
    "rank_table",
]
