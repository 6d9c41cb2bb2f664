SELECT 1 AS one, 'x' || 'y' AS xy, CURRENT_DATE AS today;
