SELECT p.tags[1] AS first_tag, tags[2] AS second_tag FROM products p;
