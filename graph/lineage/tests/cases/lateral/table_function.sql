SELECT g AS day_offset FROM generate_series(0, 6) AS g;
SELECT d.x FROM generate_series(1, 3) AS d(x);
