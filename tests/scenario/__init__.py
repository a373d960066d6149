# The test instances' CROSSTRACK_SECRET_KEY (a Fernet key made for the tests, nowhere else).
SECRET_KEY = "RBEqrvx3NbD5F9pql4SpSETBnZxo5PwVtPXAurPxitM="
