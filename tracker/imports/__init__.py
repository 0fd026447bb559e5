"""Historical data: importing past proposals and their outcomes from CSV."""
