"""Level of service A-F and the congestion flag.

Freeways and multilane highways (HCM, basic freeway segments): by density per lane. The HCM
table is in passenger cars per mile per lane (11 / 18 / 26 / 35 / 45); here converted to
vehicles per kilometre per lane (÷ 1.609), vehicles taken as passenger cars.

Every other road class (urban arterials, ring roads, collectors) follows the HCM urban street
method: by travel speed as a share of the base free-flow speed (> 85 % A, > 67 % B, > 50 % C,
> 40 % D, > 30 % E, else F).

Congested means LOS E or F: at or beyond capacity on a freeway, under 40 % of free-flow speed
on a street; the congestion map's colours and the flag always agree.
"""

from __future__ import annotations

from typing import Literal

Los = Literal["A", "B", "C", "D", "E", "F"]

# veh/km/lane, upper bound of A..E (HCM basic freeway segments, pc/mi/ln ÷ 1.609)
FREEWAY_DENSITY_PL: tuple[tuple[float, Los], ...] = (
    (11 / 1.609, "A"),
    (18 / 1.609, "B"),
    (26 / 1.609, "C"),
    (35 / 1.609, "D"),
    (45 / 1.609, "E"),
)
# lower bound (exclusive) of the share of free-flow speed for A..E (HCM urban streets)
STREET_SPEED_SHARE: tuple[tuple[float, Los], ...] = (
    (0.85, "A"),
    (0.67, "B"),
    (0.50, "C"),
    (0.40, "D"),
    (0.30, "E"),
)
DENSITY_CLASSES = frozenset({"freeway", "motorway", "expressway", "highway", "multilane"})
CONGESTED: frozenset[str] = frozenset({"E", "F"})


def uses_density(road_class: str) -> bool:
    return road_class.lower() in DENSITY_CLASSES


def level_of_service(
    road_class: str,
    *,
    density_vpkmpl: float | None,
    speed_kmh: float | None,
    free_flow_kmh: float,
) -> Los | None:
    """The LOS of one interval, None when the measure its road class needs is unknown."""
    if uses_density(road_class):
        if density_vpkmpl is None:
            return None
        for bound, grade in FREEWAY_DENSITY_PL:
            if density_vpkmpl <= bound:
                return grade
        return "F"
    if speed_kmh is None or free_flow_kmh <= 0:
        return None
    share = speed_kmh / free_flow_kmh
    for bound, grade in STREET_SPEED_SHARE:
        if share > bound:
            return grade
    return "F"


def is_congested(los: str | None) -> bool:
    return los in CONGESTED


# the congestion map's colours, green to dark red
LOS_COLOURS: dict[str, str] = {
    "A": "#1a9850",
    "B": "#66bd63",
    "C": "#d9ef8b",
    "D": "#fee08b",
    "E": "#f46d43",
    "F": "#a50026",
}
NO_DATA_COLOUR = "#9e9e9e"


def colour(los: str | None) -> str:
    return LOS_COLOURS.get(los or "", NO_DATA_COLOUR)
