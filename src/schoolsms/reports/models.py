"""Reports read what messaging and consent store; they keep no tables of their own."""
