"""The golden decision table: who may do what, enumerated exhaustively."""
