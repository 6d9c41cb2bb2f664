SELECT x.v FROM (WITH inner_cte AS (SELECT total_amount AS v FROM orders) SELECT v FROM inner_cte) x;
