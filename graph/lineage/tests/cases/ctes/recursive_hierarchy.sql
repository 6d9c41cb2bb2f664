WITH RECURSIVE chain AS (
  SELECT employee_id, manager_id, full_name AS path, 1 AS depth
  FROM employees WHERE manager_id IS NULL
  UNION ALL
  SELECT e.employee_id, e.manager_id, c.path || ' > ' || e.full_name, c.depth + 1
  FROM employees e JOIN chain c ON e.manager_id = c.employee_id
)
SELECT employee_id, path, depth FROM chain;
