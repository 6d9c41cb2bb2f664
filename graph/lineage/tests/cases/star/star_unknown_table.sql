SELECT * FROM staging.mystery m;
SELECT m.* FROM staging.mystery m;
