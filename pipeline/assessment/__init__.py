"""The figures a bureau is assessed on: periods, indicators, patrol plans and coverage."""
