SELECT p.tags[0] AS first_tag, p.tags:color::string AS color FROM bronze.products p;
