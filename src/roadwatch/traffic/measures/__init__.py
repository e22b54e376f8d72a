"""Pure traffic measures: functions of readings and segment attributes, no I/O.

Units across the traffic service: occupancy in percent (0-100), speed km/h, flow veh/h,
density veh/km (per lane where named `_pl`), lengths in metres, times epoch milliseconds.
"""
