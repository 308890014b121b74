from tests.replica.server import main

main()
