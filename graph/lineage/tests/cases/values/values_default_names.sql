SELECT column1, column2 FROM (VALUES (1, 'a')) t;
VALUES (1, 2);
