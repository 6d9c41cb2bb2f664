CREATE TABLE sales.returns (return_id bigint PRIMARY KEY);

CREATE VIEW sales.bad AS SELEC nothing FROM;
