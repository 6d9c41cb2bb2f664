SELECT `orderid`, o.AMOUNT, o.`status` AS `Status` FROM `shop`.`orders` o;
