"""Files coming in: decoding photos within limits (imaging), and uploads landing in the inbox."""
