INSERT INTO bronze.categories (category_id, name) VALUES (1, 'books'), (2, 'games');
