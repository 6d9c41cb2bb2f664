SELECT col0, col1 FROM (VALUES (1, 'a')) t;
