// Asio glue lives here (net/).
