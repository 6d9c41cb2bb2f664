SELECT v.code, v.label, v.code * 10 AS scaled FROM (VALUES (1, 'one'), (2, 'two')) AS v(code, label);
