SELECT * FROM categories;
