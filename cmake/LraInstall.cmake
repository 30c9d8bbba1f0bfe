# Installation is completed by issue 6 (CMake package); layers register themselves above.
