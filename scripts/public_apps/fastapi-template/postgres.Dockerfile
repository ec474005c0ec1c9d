# The suite's postgres stand-in with the official image's UTF-8 locale: postgres:N sets LANG, so its
# initdb makes a UTF8 cluster; without it initdb makes SQL_ASCII and psycopg 3 returns bytes.
FROM opsuite-local/postgres-standin:17
ENV LANG=C.UTF-8
