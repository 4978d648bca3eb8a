"""The retailer's own terms: payment health against the card networks' monitoring programmes."""
