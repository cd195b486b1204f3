from polar_customers.cli import main

main()
